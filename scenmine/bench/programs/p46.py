# box truck in the same lane as the ego vehicle (refav_parity program p46)
description = 'box truck in the same lane as the ego vehicle'
ego_vehicle = get_objects_of_category(log_dir, category='EGO_VEHICLE')
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
box_trucks = is_category(vehicles, log_dir, category='BOX_TRUCK')
box_trucks_in_ego_lane = in_same_lane(box_trucks, ego_vehicle, log_dir)
output_scenario(box_trucks_in_ego_lane, description, log_dir, output_dir)
