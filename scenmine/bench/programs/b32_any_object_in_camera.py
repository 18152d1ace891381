description = 'wheeled rider in any camera view'
riders = scenario_or([get_objects_of_category(log_dir, category='WHEELED_RIDER'), get_objects_of_category(log_dir, category='BICYCLIST'), get_objects_of_category(log_dir, category='MOTORCYCLIST')])
result = within_camera_view(riders, log_dir)
output_scenario(result, description, log_dir, output_dir)
